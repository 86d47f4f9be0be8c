import sys

from aibtui.cli.main import main

sys.exit(main())
