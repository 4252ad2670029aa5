import sys

from solum_db_manage.cli import main

sys.exit(main())
