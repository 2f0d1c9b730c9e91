from mlops_plan.cli import main

raise SystemExit(main())
