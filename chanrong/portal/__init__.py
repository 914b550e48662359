"""The 工作台 (home page): what each role sees first after signing in. It reads
several apps' data, so it sits above them (beside `api` and `demo`) rather
than in the kernel."""
