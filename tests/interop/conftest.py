from tests.lab.fixtures import ixp_lan, lab, loopback_lan  # noqa: F401
