"""A lab of real BGP speakers (BIRD, GoBGP, ExaBGP) on a namespace IXP LAN, for tests."""
