"""Options ixrs does not implement yet are warned about, never dropped silently."""

from collections.abc import Callable

from config_helpers import everything_enabled, general_with, minimal_general

from ixrs.config import NOT_IMPLEMENTED, RouteServerConfig
from ixrs.config.unimplemented import REASON

Load = Callable[..., RouteServerConfig]


def test_every_row_warns_once(load: Load) -> None:
    config = load(*everything_enabled())
    fields = [w.field for w in config.warnings]
    expected = [row.path for row in NOT_IMPLEMENTED if row.scope == "general"] + [
        f"clients[1].{row.path}" for row in NOT_IMPLEMENTED if row.scope == "client"
    ]
    assert fields == expected
    assert all(REASON in w.reason for w in config.warnings)
    files = {w.file.rsplit("/", 1)[-1] for w in config.warnings}
    assert files == {"general.yml", "clients.yml"}
    assert str(config.warnings[0]) == (
        f"{config.warnings[0].file}: cfg.gtsm: not implemented by ixrs yet; ignored"
    )


def test_the_options_named_in_the_brief_are_covered(load: Load) -> None:
    fields = {w.field for w in load(*everything_enabled()).warnings}
    for name in (
        "clients[1].password",
        "cfg.gtsm",
        "clients[1].cfg.gtsm",
        "cfg.add_path",
        "cfg.filtering.roles.enabled",
        "cfg.rfc8950",
        "cfg.filtering.rpki_aspa_verification.enabled",
        "cfg.filtering.irrdb.use_arin_bulk_whois_data.enabled",
        "cfg.filtering.irrdb.use_registrobr_bulk_whois_data.enabled",
        "cfg.filtering.irrdb.peering_db",
        "cfg.filtering.max_prefix.peering_db.enabled",
        "cfg.filtering.never_via_route_servers.peering_db",
        "cfg.blackhole_filtering.client_community.peering_db",
        "clients[1].cfg.filtering.max_prefix.peering_db.enabled",
        "cfg.communities.prepend_once_to_peers_with_rtt_lower_than",
        "cfg.communities.do_not_announce_to_peers_with_rtt_higher_than",
    ):
        assert name in fields, name


def test_implemented_options_are_not_warned(load: Load) -> None:
    # The import filters act on these (processors/validate).
    general = minimal_general()
    general["cfg"]["filtering"] = {"irrdb": {"tag_as_set": True,
                                             "use_rpki_roas_as_route_objects": {"enabled": True}}}
    assert load(general).warnings == ()


def test_16bit_mapped_asn_is_implemented(load: Load) -> None:
    # The export policy names a 4-byte client by it in standard communities
    # (processors/control.py; tests/decide/test_export.py, tests/interop/test_export_control.py).
    clients = {"clients": [{"asn": 196615, "ip": "192.0.2.4", "16bit_mapped_asn": 64512}]}
    config = load(minimal_general(), clients)
    assert config.warnings == ()
    assert config.clients[0].mapped_16bit_asn == 64512


def test_explicitly_off_or_absent_gives_no_warning(load: Load) -> None:
    general = minimal_general()
    general["cfg"].update(
        {
            "gtsm": False,
            "add_path": "no",
            "filtering": {
                "irrdb": {"tag_as_set": False, "peering_db": False},
                "max_prefix": {"peering_db": {"enabled": False}},
                "never_via_route_servers": {"peering_db": False},
                "roles": {"enabled": False},
            },
        }
    )
    clients = {
        "clients": [{"asn": 20002, "ip": "192.0.2.2", "password": "", "cfg": {"gtsm": False}}]
    }
    assert load(general, clients).warnings == ()
    assert load().warnings == ()


def test_deprecated_spelling_is_warned_under_its_new_name(load: Load) -> None:
    general = general_with("cfg.filtering.max_prefix.peering_db", True)
    assert [w.field for w in load(general).warnings] == [
        "cfg.filtering.max_prefix.peering_db.enabled"
    ]
