"""ServiceNow's own Python client (pysnc) against the simulator's Table API and OAuth."""

import re

import pytest
import requests
from pysnc import ServiceNowClient, ServiceNowPasswordGrantFlow
from pysnc.exceptions import AuthenticationException, RoleException


def client(tls, auth=("admin", "admin")):
    url, ca = tls
    return ServiceNowClient(url, auth, verify=ca)


# The simulator's /sim control API requires its admin account's HTTP Basic credentials.
SIM_ADMIN = ("admin", "admin")


def ensure_incidents(sim_url, at_least):
    """A simulator given through SUPPORTBOT_SIM_URL may hold fewer rows: top it up."""
    info = requests.get(f"{sim_url}/sim", auth=SIM_ADMIN, timeout=10)
    info.raise_for_status()
    count = info.json()["tables"]["incident"]
    missing = at_least - count
    if missing > 0:
        records = [{"short_description": f"Conformance filler {i}", "category": "inquiry"} for i in range(missing)]
        requests.post(
            f"{sim_url}/sim/records/incident", json=records, auth=SIM_ADMIN, timeout=60
        ).raise_for_status()


def test_basic_login_encoded_query_and_ordering(tls):
    gr = client(tls).GlideRecord("incident")
    gr.add_encoded_query("category=network^priority<=3")
    gr.order_by_desc("sys_updated_on")
    gr.query()
    assert gr.get_row_count() > 0
    previous = None
    rows = 0
    for record in gr:
        assert record.get_value("category") == "network"
        assert int(record.get_value("priority")) <= 3
        updated = record.get_value("sys_updated_on")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", updated)
        if previous is not None:
            assert updated <= previous
        previous = updated
        rows += 1
    assert rows == gr.get_row_count()


def test_oauth_password_grant(tls):
    flow = ServiceNowPasswordGrantFlow("svc.readonly", "readonly", "demo-client", "demo-secret")
    gr = client(tls, flow).GlideRecord("incident", batch_size=10)
    gr.add_query("active", "true")
    gr.query()
    assert gr.get_row_count() > 0
    assert gr.next()
    assert gr.get_value("active") == "true"


def test_oauth_wrong_password_is_refused(tls):
    flow = ServiceNowPasswordGrantFlow("svc.readonly", "wrong", "demo-client", "demo-secret")
    with pytest.raises(Exception):
        client(tls, flow)


def test_paging_more_than_a_thousand_records_with_defaults(sim_url, tls):
    ensure_incidents(sim_url, 1200)
    gr = client(tls).GlideRecord("incident")
    gr.query()
    total = gr.get_row_count()
    assert total > 1000
    seen = set()
    for record in gr:
        seen.add(record.get_value("sys_id"))
    assert len(seen) == total


def test_reference_fields(tls):
    sn = client(tls)
    gr = sn.GlideRecord("incident")
    gr.add_not_null_query("assigned_to")
    gr.query()
    assert gr.next()
    user_id = gr.get_value("assigned_to")
    assert re.fullmatch(r"[0-9a-f]{32}", user_id)
    name = gr.get_display_value("assigned_to")
    assert name
    user = sn.GlideRecord("sys_user")
    assert user.get(user_id)
    assert user.get_value("name") == name
    # Choice fields carry labels as display values.
    assert gr.get_display_value("state") in {"New", "In Progress", "On Hold", "Resolved", "Closed", "Canceled"}


def test_missing_roles_and_bad_passwords(tls):
    gr = client(tls, ("no.access", "no.access")).GlideRecord("incident")
    with pytest.raises(RoleException):
        gr.query()
    gr = client(tls, ("admin", "wrong")).GlideRecord("incident")
    with pytest.raises(AuthenticationException):
        gr.query()
