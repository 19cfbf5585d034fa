from iisdetect.cli import main

raise SystemExit(main())
