"""The Redis engine (`python -m server --redis URL`): the same interfaces as the one-process engine
(`server.engines`), shared by every server process using one Redis.

- `link`: the shared client, Redis's health and what an ack promises;
- `hub`: broadcasts over pub/sub, presence as expiring entries;
- `store`: results, each id once, acked after Redis accepted it;
- `jobs`: distributed jobs on a stream with a consumer group, under the rules of `server.job_rules`.

Every module imports the PyPI `redis` library by its absolute name; this package is `server.redis`.
"""
