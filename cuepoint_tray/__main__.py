from cuepoint_tray.cli import main

raise SystemExit(main())
