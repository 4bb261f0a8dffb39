"""Several bot instances on one PostgreSQL database (cluster mode, docs/deployment.md).

`inbox`: the webhook's updates stored once each, handed out one chat at a time under leases. `lease`: named leases
(the scheduler's leadership) and the record that a scheduled job ran for a due time. Nothing here knows Telegram:
the PTB glue is handlers/cluster.py.
"""
