import sys

from ixrs.cli import main

sys.exit(main(sys.argv[1:]))
