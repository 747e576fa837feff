"""The local Dask cluster shared by generation and tuning."""

import pytest

from neyman import cluster
from neyman.exceptions import MissingDependencyError


def test_a_missing_dask_names_what_it_was_for(monkeypatch):
    def missing(module, *, purpose=""):
        raise MissingDependencyError(f"{module} is needed to {purpose}")

    monkeypatch.setattr(cluster, "require", missing)
    started = cluster.local_cluster(2, purpose="run trials in parallel")
    with pytest.raises(MissingDependencyError, match="distributed is needed to run trials in parallel"):
        started.__enter__()


@pytest.mark.slow  # starts two worker processes
def test_a_local_cluster_runs_tasks_and_is_closed_on_exit():
    with cluster.local_cluster(2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert client.submit(sum, [1, 2, 3]).result() == 6
        port = client.cluster.scheduler.http_server.port
        assert port not in (0, 8787)  # a free port, not the default dashboard's
        with cluster.local_cluster(1) as other:  # a second cluster on the same machine does not collide
            assert other.submit(len, "ab").result() == 2
    assert client.status == "closed" and client.cluster.status.name == "closed"
