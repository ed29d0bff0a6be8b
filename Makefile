.PHONY: demo test setup lint
demo:        ## set up and run the site on the demo corpus at http://127.0.0.1:8000
	scripts/demo.sh
test:        ## set up and run the whole test suite (SQLite and PostgreSQL)
	scripts/test.sh
setup:
	scripts/setup.sh --test
lint:
	.venv/bin/ruff check paperfeed && .venv/bin/ruff format --check paperfeed
