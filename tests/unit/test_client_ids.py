"""Client ids are safe to type on a command line."""

from idp.oidc.client_checks import new_client_id


def test_client_ids_never_start_with_a_dash():
    ids = [new_client_id() for _ in range(5000)]
    assert not [client_id for client_id in ids if client_id.startswith("-")]
    assert {len(client_id) for client_id in ids} == {24}
