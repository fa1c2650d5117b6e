//! The IT problems, people and word lists the data generator draws from.
//!
//! Each scenario keeps its short description, description, work note and resolution consistent,
//! so a search over the generated knowledge base finds answers that actually fit the question.
//! Placeholders in braces (`{app}`, `{site}`…) are filled from the slot lists below.

/// One kind of incident, with text that fits together.
pub struct Scenario {
    pub category: &'static str,
    pub subcategory: &'static str,
    /// Name of the `sys_user_group` that works it.
    pub group: &'static str,
    pub shorts: &'static [&'static str],
    pub description: &'static str,
    pub work_note: &'static str,
    pub close_notes: &'static str,
    pub close_code: &'static str,
}

/// The index in [`SCENARIOS`] of the one scenario whose description template `description`
/// fills, or `None` when none or several do. The generator's labels, recovered from the text:
/// evaluation sets and benchmarks use it to know which incidents answer which question.
pub fn scenario_of(description: &str) -> Option<usize> {
    let mut matching = SCENARIOS
        .iter()
        .enumerate()
        .filter(|(_, s)| fills(s.description, description))
        .map(|(i, _)| i);
    match (matching.next(), matching.next()) {
        (Some(i), None) => Some(i),
        _ => None,
    }
}

/// Whether `text` is `template` with its `{slot}`s filled: the literal pieces between slots
/// appear in order, the first at the start (ignoring the capital a leading slot gets) and the
/// last at the end.
fn fills(template: &str, text: &str) -> bool {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        pieces.push(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => rest = &rest[open + close + 1..],
            None => return false,
        }
    }
    pieces.push(rest);
    let text = text.to_lowercase();
    let pieces: Vec<String> = pieces.iter().map(|p| p.to_lowercase()).collect();
    if pieces.len() == 1 {
        return text == pieces[0];
    }
    let (first, last) = (&pieces[0], &pieces[pieces.len() - 1]);
    if !text.starts_with(first.as_str()) || !text.ends_with(last.as_str()) {
        return false;
    }
    let mut at = first.len();
    let end = text.len() - last.len();
    if at > end {
        return false;
    }
    for piece in &pieces[1..pieces.len() - 1] {
        match text[at..end].find(piece.as_str()) {
            Some(i) => at += i + piece.len(),
            None => return false,
        }
    }
    true
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        category: "network",
        subcategory: "vpn",
        group: "Network Operations",
        shorts: &["VPN disconnects every few minutes", "{vpn} drops connection when working from home", "VPN keeps disconnecting"],
        description: "Since this morning {vpn} disconnects roughly every 5-10 minutes while I am working from {site}. I have to re-enter my MFA code each time and lose my session in {app}. Other people on my team do not seem to have the problem.",
        work_note: "Client logs show IKE rekey failures after the MTU probe; the home router is doing double NAT.",
        close_notes: "Lowered the tunnel MTU to 1380 in the {vpn} client profile and enabled DPD keepalives. User confirmed the connection stayed up for a full working day.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "network",
        subcategory: "vpn",
        group: "Network Operations",
        shorts: &["Cannot connect to VPN: authentication failed", "{vpn} says 'authentication failed' after password change", "VPN login rejected"],
        description: "I changed my Windows password yesterday and now {vpn} rejects my login with 'authentication failed'. Outlook and Teams work fine on the office network but I cannot reach any internal site from {site}.",
        work_note: "RADIUS log shows the cached credential in the client keychain is the old password.",
        close_notes: "Cleared the saved credentials in {vpn}, had the user sign in with the new password and re-registered the MFA token. VPN connects normally.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "network",
        subcategory: "vpn",
        group: "Network Operations",
        shorts: &["VPN connected but internal sites do not load", "Connected to {vpn} but cannot reach intranet", "VPN up, no access to file shares"],
        description: "{vpn} shows as connected but intranet pages time out and I cannot map {share}. Internet browsing works. This started after the latest client update on my laptop {laptop}.",
        work_note: "Split tunnel route list on the client is empty; the update reset the profile.",
        close_notes: "Re-deployed the corporate VPN profile with the split-tunnel routes and flushed the DNS cache (ipconfig /flushdns). Intranet and {share} reachable again.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "network",
        subcategory: "wireless",
        group: "Network Operations",
        shorts: &["Wi-Fi very slow in {site}", "Wireless keeps dropping in meeting rooms", "Cannot join the CORP Wi-Fi network"],
        description: "The CORP wireless network in {site} is extremely slow since Monday; video calls in {app} freeze and pages take 30 seconds to load. Wired connections at the same desks are fine.",
        work_note: "Access point AP-{n} is on a congested 2.4 GHz channel and two neighbouring APs are down.",
        close_notes: "Rebooted the two failed access points, moved AP-{n} to a 5 GHz channel and enabled band steering. Throughput back to normal in {site}.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "network",
        subcategory: "dns",
        group: "Network Operations",
        shorts: &["Internal site does not resolve", "DNS error when opening {app}", "Intranet name not found"],
        description: "When I open {app} the browser says 'DNS_PROBE_FINISHED_NXDOMAIN'. Colleagues in {site} have the same problem. The site worked on Friday.",
        work_note: "The A record for the {app} front end was removed during Friday's DNS cleanup change.",
        close_notes: "Restored the missing A record for the {app} host and reduced the TTL; confirmed resolution from {site}. Linked to change that removed it.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "software",
        subcategory: "email",
        group: "Messaging",
        shorts: &["Outlook stuck on 'Trying to connect'", "Outlook not receiving new email", "Outlook disconnected from Exchange"],
        description: "Outlook has shown 'Trying to connect...' since this morning and no new mail arrives. Outlook on the web works. I already restarted the laptop {laptop}.",
        work_note: "The OST file is 49.8 GB, close to the limit; the profile is failing to sync.",
        close_notes: "Created a new Outlook profile, archived mail older than two years to an online archive and let the cache rebuild. Outlook connected and synced.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "software",
        subcategory: "email",
        group: "Messaging",
        shorts: &["Mailbox full, cannot send email", "Mailbox over quota", "Email bounces: mailbox full"],
        description: "I get a warning that my mailbox is full and I can no longer send email. I need to send invoices today. Please increase my quota.",
        work_note: "Mailbox at 99.9 GB of 100 GB; most of it is the Sent Items folder with large attachments.",
        close_notes: "Enabled auto-expanding online archive and applied the 2-year archive policy; mailbox now at 41 GB. Showed the user how to find archived mail.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "software",
        subcategory: "email",
        group: "Messaging",
        shorts: &["Shared mailbox not showing in Outlook", "Cannot access the {team} shared mailbox", "Shared mailbox missing after migration"],
        description: "The {team} shared mailbox disappeared from my Outlook after the weekend. I still need it to answer customer requests. I had full access before.",
        work_note: "Full Access permission exists but AutoMapping was disabled by the migration script.",
        close_notes: "Re-granted Full Access with AutoMapping enabled; mailbox appeared in Outlook after restart. Added the mailbox to the migration fix list.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "software",
        subcategory: "email",
        group: "Messaging",
        shorts: &["Suspicious email received", "Possible phishing email asking for password", "Phishing: fake invoice link"],
        description: "I received an email that looks like it is from IT asking me to confirm my password via a link. The sender address is external. I did not click the link.",
        work_note: "Same message delivered to 212 mailboxes; the URL is a credential harvesting page.",
        close_notes: "Purged the message from all mailboxes, blocked the sender domain and URL at the gateway. No credentials were entered according to proxy logs. Thanked user for reporting.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "software",
        subcategory: "os",
        group: "Desktop Support",
        shorts: &["Laptop very slow after Windows update", "Windows update stuck at 35%", "Blue screen after update"],
        description: "After last night's Windows update my laptop {laptop} takes 10 minutes to start and {app} freezes every few minutes. Task Manager shows disk at 100%.",
        work_note: "Windows Search indexer and a failed cumulative update retrying in a loop.",
        close_notes: "Removed the failed update, cleared the SoftwareDistribution folder, re-applied the cumulative update and rebuilt the search index. Boot time back to about one minute.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "software",
        subcategory: "internal application",
        group: "Application Support",
        shorts: &["{app} crashes on startup", "{app} closes when opening a report", "Error {code} when launching {app}"],
        description: "{app} crashes as soon as I open it, with error {code}. Reinstalling from Software Center did not help. I need it for month-end reporting.",
        work_note: "Crash dump points to a corrupt user cache under AppData after an interrupted upgrade.",
        close_notes: "Deleted the {app} cache folder in the user profile and repaired the installation; application starts and reports open. Known issue after interrupted upgrades, KB article updated.",
        close_code: "Solved (Work Around)",
    },
    Scenario {
        category: "software",
        subcategory: "internal application",
        group: "Application Support",
        shorts: &["{app} very slow for all users", "{app} times out when saving", "{app} performance degraded"],
        description: "Since about 9:00 {app} takes over a minute to save a record and sometimes times out. Everyone in {site} is affected.",
        work_note: "Application server {host} has a thread pool exhausted by a stuck batch job.",
        close_notes: "Killed the stuck batch job on {host} and restarted the application pool; response times back under a second. Problem record opened for the batch job.",
        close_code: "Solved (Work Around)",
    },
    Scenario {
        category: "software",
        subcategory: "internal application",
        group: "Application Support",
        shorts: &["Need {app} installed", "Request to install {app} on my laptop", "{app} missing from Software Center"],
        description: "I am new in the team and need {app} on my laptop {laptop}. It is not listed in Software Center for me.",
        work_note: "User is not in the deployment collection for {app}.",
        close_notes: "Added the user to the {app} deployment group; the package installed from Software Center after a policy refresh.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "hardware",
        subcategory: "printer",
        group: "Desktop Support",
        shorts: &["Printer {printer} not printing", "Print jobs stuck in queue on {printer}", "Printer offline"],
        description: "Nothing prints on {printer}. Jobs sit in the queue with status 'Error - Printing'. The printer display shows ready. Several people in {site} are affected.",
        work_note: "Print spooler on the print server hung; 140 jobs stuck in the queue.",
        close_notes: "Cleared the stuck jobs, restarted the Print Spooler service on the print server and updated the {printer} driver to the latest universal driver. Test page printed.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "hardware",
        subcategory: "printer",
        group: "Desktop Support",
        shorts: &["Paper jam on {printer}", "{printer} shows paper jam but no paper inside", "Printer jams on every page"],
        description: "{printer} reports a paper jam in tray 2 on every job. I opened all the doors and found no paper. It started after someone loaded heavy card stock.",
        work_note: "Fuser roller worn and a torn piece of card stuck behind the rear door.",
        close_notes: "Removed the torn card from behind the fuser, replaced the worn pickup roller and reset the jam counter. Printed 50 pages without a jam.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "hardware",
        subcategory: "printer",
        group: "Desktop Support",
        shorts: &["Cannot scan to email on {printer}", "Scan to email fails with SMTP error", "Scanner not sending email"],
        description: "Scan to email on {printer} fails with 'SMTP authentication error'. Scanning worked last week.",
        work_note: "The scanner's SMTP relay account password expired.",
        close_notes: "Moved the device to the anonymous internal SMTP relay, which does not require a password, and removed the expired service account. Scan to email works.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "hardware",
        subcategory: "monitor",
        group: "Desktop Support",
        shorts: &["External monitor not detected", "Docking station does not show second screen", "Monitor flickers"],
        description: "My external monitors are not detected when I connect laptop {laptop} to the docking station in {site}. The laptop screen works; the dock charges the laptop.",
        work_note: "Dock firmware is two versions behind; known USB-C DisplayPort alt-mode issue.",
        close_notes: "Updated the docking station firmware and the laptop graphics driver; both monitors detected at native resolution.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "hardware",
        subcategory: "disk",
        group: "Desktop Support",
        shorts: &["Laptop disk full", "Low disk space warning", "C: drive almost full"],
        description: "My laptop {laptop} keeps warning that drive C: is almost full and applications fail to save files. I do not store much locally.",
        work_note: "OneDrive cache set to keep all files offline, using 180 GB.",
        close_notes: "Enabled OneDrive Files On-Demand and freed 170 GB; cleaned temp folders. Disk now 35% used.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "hardware",
        subcategory: "keyboard",
        group: "Desktop Support",
        shorts: &["Laptop keyboard keys not working", "Several keys stopped working", "Keyboard types wrong characters"],
        description: "Several keys on my laptop {laptop} (E, R and the space bar) stopped working after a coffee spill. An external keyboard works.",
        work_note: "Liquid damage confirmed; under warranty with accidental damage cover.",
        close_notes: "Replaced the keyboard assembly under the accidental damage warranty; all keys tested OK. Loaner laptop returned.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "hardware",
        subcategory: "cpu",
        group: "Desktop Support",
        shorts: &["Laptop overheating and shutting down", "Laptop fan very loud and hot", "Computer turns off by itself"],
        description: "My laptop {laptop} gets very hot and shuts down during video calls in {app}. It happens several times a day.",
        work_note: "Fan clogged with dust; CPU reaching 100 C under load.",
        close_notes: "Cleaned the fan and heat sink, re-applied thermal paste and updated the BIOS fan curve. Temperatures stay below 80 C under load.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "inquiry",
        subcategory: "access",
        group: "Identity & Access Management",
        shorts: &["Account locked out", "Locked out after too many password attempts", "Cannot log in: account locked"],
        description: "My account is locked and I cannot log in to my laptop or {app}. I think my phone kept trying an old password for email.",
        work_note: "Lockout source is the mobile mail client on the user's phone with the old password.",
        close_notes: "Unlocked the account in Active Directory, removed and re-added the mail account on the phone with the new password. No further lockouts.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "inquiry",
        subcategory: "access",
        group: "Identity & Access Management",
        shorts: &["Password reset request", "Forgot my password", "Password expired while travelling"],
        description: "My password expired while I was travelling and the self-service reset page does not send me the SMS code.",
        work_note: "Phone number on the account is the user's old number.",
        close_notes: "Verified identity via the manager, reset the password with change-at-next-logon, and updated the registered phone number for self-service reset.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "inquiry",
        subcategory: "access",
        group: "Identity & Access Management",
        shorts: &["Need access to {share}", "Access denied to {share}", "Request permissions on shared folder"],
        description: "I get 'Access denied' when I open {share}. My manager approved access for the {team} project last week.",
        work_note: "Approval exists but the access group change was never applied by the workflow.",
        close_notes: "Added the user to the {team} read/write group for {share} per the approved request; user confirmed access after logging off and on.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "inquiry",
        subcategory: "access",
        group: "Identity & Access Management",
        shorts: &["MFA prompt not arriving on new phone", "Lost phone, cannot complete MFA", "Authenticator app not working after phone change"],
        description: "I got a new phone and the authenticator app no longer receives sign-in prompts, so I cannot sign in to {app} or email.",
        work_note: "Old device still registered as the default MFA method.",
        close_notes: "Removed the old device, issued a temporary access pass and guided the user through registering the authenticator on the new phone.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "database",
        subcategory: "oracle",
        group: "Database Administration",
        shorts: &["Reports fail with ORA-01555", "Database {db} queries time out", "{db} slow since this morning"],
        description: "Nightly finance reports against {db} fail with 'ORA-01555: snapshot too old' and daytime queries are very slow.",
        work_note: "Undo tablespace too small for the new long-running report; undo retention 900 s.",
        close_notes: "Increased the undo tablespace and set undo_retention to 3600 seconds on {db}; rescheduled the long report outside business hours. Reports complete.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "database",
        subcategory: "ms sql server",
        group: "Database Administration",
        shorts: &["{db} transaction log full", "SQL error 9002: log full on {db}", "Application cannot write to {db}"],
        description: "{app} shows 'The transaction log for database is full' (error 9002) and no records can be saved.",
        work_note: "Log backups failing for three days because the backup share was full.",
        close_notes: "Freed space on the backup share, ran a log backup and shrank the log file on {db}; added monitoring on log backup failures.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "database",
        subcategory: "db2",
        group: "Database Administration",
        shorts: &["Deadlocks on {db}", "Batch job fails with deadlock on {db}", "Lock timeouts in {app}"],
        description: "The overnight import into {db} failed with deadlock errors and {app} users see lock timeouts in the morning.",
        work_note: "The import and the 07:00 report lock the same table in opposite order.",
        close_notes: "Moved the report to 08:00 after the import completes and added an index so the import locks fewer rows. No deadlocks in the last three runs.",
        close_code: "Solved (Work Around)",
    },
    Scenario {
        category: "software",
        subcategory: "internal application",
        group: "Application Support",
        shorts: &["Teams calls drop after a few minutes", "No audio in Teams meetings", "Teams camera not working"],
        description: "In Teams meetings other people cannot hear me, although the headset works in other apps. It started after I switched headsets in {site}.",
        work_note: "Teams device settings still point to the old headset; Windows privacy blocks microphone for desktop apps.",
        close_notes: "Allowed microphone access for desktop apps in Windows privacy settings and selected the new headset in Teams device settings. Test call OK.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "network",
        subcategory: "dhcp",
        group: "Network Operations",
        shorts: &["No network on desk port in {site}", "Laptop gets 169.254 address", "Wired network not working"],
        description: "My laptop gets a 169.254.x.x address on the desk port in {site}, so there is no network. Other ports on the same floor work.",
        work_note: "DHCP scope for the floor VLAN is exhausted; lease time 8 days.",
        close_notes: "Reduced the DHCP lease time to 1 day and extended the scope range for the floor VLAN; laptop received a valid address.",
        close_code: "Solved (Permanently)",
    },
    Scenario {
        category: "software",
        subcategory: "internal application",
        group: "Application Support",
        shorts: &["Cannot open attachments in {app}", "Error {code} when uploading a file", "File upload fails in {app}"],
        description: "Uploading a PDF to {app} fails with error {code}. Small files work; anything above about 10 MB fails.",
        work_note: "Reverse proxy client_max_body_size is 10 MB.",
        close_notes: "Not reproducible after the weekend release; the proxy limit had already been raised to 50 MB by the release. Asked the user to reopen if it recurs.",
        close_code: "Not Solved (Not Reproducible)",
    },
    Scenario {
        category: "inquiry",
        subcategory: "internal application",
        group: "Service Desk",
        shorts: &["How do I set up email on my phone?", "Question about connecting to guest Wi-Fi", "How to request a new laptop"],
        description: "I would like to know how to set up company email on my personal phone. Is there a guide?",
        work_note: "Sent the mobile enrolment guide.",
        close_notes: "Sent the knowledge article on enrolling a personal phone in Intune and installing Outlook mobile. Caller set it up and closed the request.",
        close_code: "Closed/Resolved by Caller",
    },
];

pub const APPS: &[&str] = &[
    "SAP GUI",
    "Salesforce",
    "Workday",
    "Zoom",
    "Excel",
    "Concur",
    "the HR portal",
    "Power BI",
    "Jira",
    "Citrix Workspace",
    "AutoCAD",
    "the CRM",
];
pub const VPNS: &[&str] = &["GlobalProtect", "Cisco AnyConnect", "FortiClient VPN"];
pub const SITES: &[&str] = &[
    "the London office",
    "Building 4, 2nd floor",
    "Chicago HQ",
    "the Berlin site",
    "the Singapore office",
    "my home office",
    "the Madrid branch",
    "the warehouse in Leeds",
];
pub const PRINTERS: &[&str] = &[
    "PRN-LON-3F-01",
    "PRN-CHI-2-14",
    "PRN-BER-EG-02",
    "PRN-SIN-05-07",
    "PRN-MAD-1-03",
];
pub const DATABASES: &[&str] = &[
    "ORAPRD01",
    "SQLPRD-FIN",
    "DB2-LOGI-01",
    "SQLPRD-HR",
    "ORACRM02",
];
pub const HOSTS: &[&str] = &[
    "srv-app-017",
    "web-prod-03",
    "app-fin-02",
    "crm-app-11",
    "batch-01",
];
pub const SHARES: &[&str] = &[
    "\\\\fs01\\finance",
    "\\\\fs02\\projects",
    "\\\\fs01\\hr-confidential",
    "\\\\fs03\\engineering",
    "the Marketing SharePoint site",
];
pub const TEAMS: &[&str] = &[
    "Finance",
    "Customer Care",
    "Procurement",
    "Marketing",
    "Logistics",
    "Legal",
];
pub const ERROR_CODES: &[&str] = &[
    "0x80070005",
    "0xC0000142",
    "500",
    "E1002",
    "0x8004010F",
    "413",
    "ERR_CONNECTION_RESET",
];

pub const FIRST_NAMES: &[&str] = &[
    "Beth", "David", "Fred", "Abel", "Maria", "Chen", "Priya", "Lucas", "Sofia", "Ahmed", "Olivia",
    "Noah", "Emma", "Kenji", "Fatima", "Jonas", "Aisha", "Mateo", "Hannah", "Ivan", "Grace",
    "Tomás", "Leila", "Oscar", "Mei", "Samuel", "Zara", "Pierre", "Nina", "Raj",
];
pub const LAST_NAMES: &[&str] = &[
    "Anglin", "Loo", "Luddy", "Tuter", "Garcia", "Wei", "Sharma", "Martin", "Rossi", "Hassan",
    "Brown", "Müller", "Johnson", "Tanaka", "Khan", "Berg", "Okafor", "Lopez", "Schmidt", "Petrov",
    "Kim", "Silva", "Haddad", "Nilsson", "Lin", "Adeyemi", "Ali", "Dubois", "Novak", "Patel",
];
pub const DEPARTMENTS: &[&str] = &[
    "Finance",
    "Sales",
    "Human Resources",
    "Engineering",
    "Customer Support",
    "Operations",
    "Legal",
    "Marketing",
];
pub const GROUPS: &[&str] = &[
    "Service Desk",
    "Network Operations",
    "Desktop Support",
    "Messaging",
    "Application Support",
    "Identity & Access Management",
    "Database Administration",
];

/// Follow-ups the caller or the agent write in comments (customer-visible journal).
pub const COMMENTS: &[&str] = &[
    "Thanks, I will try that and let you know.",
    "Any update on this? It is blocking my work today.",
    "It happened again this morning around 9:30.",
    "Could you please call me at my desk? I am available after 2 pm.",
    "We are looking into this and will update you shortly.",
    "Can you confirm whether the issue still occurs after a restart?",
    "Please let us know if the issue comes back.",
];

/// Incidents whose work is still going on get one of these notes instead of a resolution.
pub const PROGRESS_NOTES: &[&str] = &[
    "Contacted the user, waiting for a convenient time for remote session.",
    "Escalated to the vendor, case opened.",
    "Reproduced the issue; collecting logs.",
    "Waiting for the user's reply.",
];
