# The two commands of the README, and a few more.
.PHONY: up test unit bench clean

up:            ## set up and run the whole platform with the demo county
	bash scripts/bootstrap
	.venv/bin/redprop up

test:          ## set up and run every test (needs RabbitMQ and PostgreSQL on localhost)
	bash scripts/bootstrap
	.venv/bin/pytest -q

unit:          ## tests that need no broker or database server
	bash scripts/bootstrap
	.venv/bin/pytest -q -m "not integration and not fault"

bench:         ## benchmarks (figures go to docs/PERFORMANCE.md by hand)
	bash scripts/bootstrap
	.venv/bin/python -m bench.gateway_reads
	.venv/bin/python -m bench.import_compounds
	.venv/bin/python -m bench.tickets_submit
	.venv/bin/python -m bench.tickets_sweep
	.venv/bin/python -m bench.tickets_stats
	.venv/bin/python -m bench.ratings_scoring
	.venv/bin/python -m bench.notifications
	.venv/bin/python -m bench.scale_out

clean:
	rm -rf var
