"""python -m aovlab.cli"""

from . import main

main()
