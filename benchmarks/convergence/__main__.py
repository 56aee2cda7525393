import sys

from benchmarks.convergence.run import main

sys.exit(main())
