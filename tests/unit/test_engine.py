"""The docker-py seam (sandbox.container.engine): what every container is created with."""

from __future__ import annotations

from pathlib import Path

from sandbox.container.engine import DEFAULT_PIDS_LIMIT, ContainerRequest, Mount, _create_kwargs


def _request(**fields: object) -> ContainerRequest:
    return ContainerRequest(
        image="img",
        entrypoint=["python3"],
        command=None,
        environment={},
        mounts=[Mount(Path("/tmp"), "/data")],
        labels={"sandbox.tool": "sandbox"},
        **fields,  # type: ignore[arg-type]
    )


def test_every_container_has_a_pids_limit() -> None:
    assert _create_kwargs(_request())["pids_limit"] == DEFAULT_PIDS_LIMIT
    assert _create_kwargs(_request(pids_limit=64))["pids_limit"] == 64


def test_every_container_can_make_no_device_node_and_gain_no_privilege() -> None:
    kwargs = _create_kwargs(_request(user="0:0"))
    assert kwargs["cap_drop"] == ["MKNOD"]
    assert kwargs["security_opt"] == ["no-new-privileges"]
