import sys

from houqin.cli.root import main

sys.exit(main())
