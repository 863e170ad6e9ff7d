import sys

from neuralcodes.cli import main

sys.exit(main())
