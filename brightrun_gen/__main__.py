import sys

from brightrun_gen.cli import main

sys.exit(main())
