"""The `jira` PyPI client against the simulator's Jira Cloud and Data Center flavours."""

from jira import JIRA

OPTIONS = {"check_update": False}


def cloud(sim_url, version="2"):
    return JIRA(server=sim_url, basic_auth=("demo@example.com", "demo-token"), options={**OPTIONS, "rest_api_version": version})


def test_cloud_is_detected_and_search_uses_search_jql(sim_url):
    jira = cloud(sim_url)
    assert jira.server_info()["deploymentType"] == "Cloud"
    issues = jira.search_issues("project = SUP ORDER BY key ASC", maxResults=False, fields="summary,updated,status")
    assert len(issues) > 100
    keys = [issue.key for issue in issues]
    assert len(set(keys)) == len(keys)
    assert all(key.startswith("SUP-") for key in keys)
    assert issues[0].fields.summary
    assert issues[0].fields.status.name in {"To Do", "In Progress", "Done"}


def test_cloud_v3_returns_adf(sim_url):
    jira = cloud(sim_url, version="3")
    issues = jira.search_issues("project = OPS", maxResults=5, fields=["description", "comment"])
    assert issues
    description = issues[0].raw["fields"]["description"]
    assert description["type"] == "doc"
    assert description["content"][0]["content"][0]["text"]


def test_cloud_incremental_search_by_epoch_millis(sim_url):
    jira = cloud(sim_url)
    everything = jira.search_issues("project in (SUP, OPS) ORDER BY updated ASC", maxResults=False, fields="updated")
    middle = everything[len(everything) // 2]
    recent = jira.search_issues(f"project in (SUP, OPS) AND updated >= {_epoch_ms(middle.fields.updated)} ORDER BY updated ASC", maxResults=False, fields="updated")
    assert 0 < len(recent) < len(everything)
    assert middle.key in {issue.key for issue in recent}


def test_data_center_with_a_personal_access_token(sim_url):
    jira = JIRA(server=f"{sim_url}/dc", token_auth="demo-pat", options=OPTIONS)
    assert jira.server_info()["deploymentType"] == "Server"
    issues = jira.search_issues("project = SUP", maxResults=False)
    assert issues.total == len(issues) > 100
    assert isinstance(issues[0].fields.description, str)


def _epoch_ms(jira_date):
    from datetime import datetime

    return int(datetime.strptime(jira_date, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)
