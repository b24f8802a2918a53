"""The standalone server: command line, 127.0.0.1 by default, state that survives a restart."""
from __future__ import annotations

from pathlib import Path

import requests

from mock_platform.__main__ import parse_args
from mock_platform.server_process import ServerPlatform
from mock_platform.tests.builders import TIMEOUT, inspection, make_uscc, push
from schemas import signing


def test_the_command_line_defaults_to_localhost_port_8900_in_memory() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.state) == ("127.0.0.1", 8900, None)
    assert (args.access_key, args.secret) == ("mock-access-key", "mock-secret")


def test_the_server_announces_where_it_listens(mock_platform_server_process: ServerPlatform) -> None:
    assert mock_platform_server_process.base_url.startswith("http://127.0.0.1:")
    assert f"on {mock_platform_server_process.base_url} " in mock_platform_server_process.output()


def test_options_set_the_limits_and_credentials() -> None:
    with ServerPlatform(extra_args=["--max-batch", "2", "--rate", "0", "--access-key", "wuzhi", "--secret", "wuzhi-secret",
                                    "--require-known-entities"]) as server:
        settings = server.control.settings()
        assert settings["max_batch_records"] == 2 and settings["rate_limit_per_second"] is None
        assert settings["require_known_entities"] is True
        session = requests.Session()
        session.auth = signing.PlatformAuth("wuzhi", "wuzhi-secret")
        assert push(server, "inspection-results", [inspection()], session=session).status_code == 200


def test_state_in_a_sqlite_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "platform.sqlite"
    nonce, stamp = signing.new_nonce(), signing.timestamp_ms()
    with ServerPlatform(state=state) as first:
        first.control.add_credentials("county-b", "county-b-secret")
        first.control.update_settings(max_batch_records=50)
        first.control.seed_inspections([inspection(9, id="prov-9", authority_level="province")])
        answer = push(first, "inspection-results", [inspection(1)], headers={"Idempotency-Key": "k1"})
        body = b'{"records":[]}'
        headers = {**signing.sign("POST", first.url("/api/v1/plans/batch"), body, first.access_key, first.secret,
                                  timestamp=stamp, nonce=nonce), "Content-Type": "application/json"}
        assert requests.post(first.url("/api/v1/plans/batch"), data=body, headers=headers, timeout=TIMEOUT).status_code == 400

    with ServerPlatform(state=state) as second:
        assert second.control.health()["records"] == {"pushed": 1, "seeded": 1}
        assert second.control.settings()["max_batch_records"] == 50
        replay = push(second, "inspection-results", [inspection(1)], headers={"Idempotency-Key": "k1"})
        assert replay.content == answer.content and replay.headers["Idempotency-Replayed"] == "true"
        reused = requests.post(second.url("/api/v1/plans/batch"), data=body, headers=headers, timeout=TIMEOUT)
        assert reused.json()["code"] == "nonce_reused"
        other = requests.Session()
        other.auth = signing.PlatformAuth("county-b", "county-b-secret")
        assert other.get(second.url("/api/v1/plans"), timeout=TIMEOUT).status_code == 200
        view = requests.get(second.url(f"/api/v1/public/entities/{make_uscc(9)}/inspections"), timeout=TIMEOUT).json()
        assert [i["id"] for i in view["inspections"]] == ["prov-9"]
        second.control.reset()

    with ServerPlatform(state=state) as third:
        assert third.control.health()["records"] == {"pushed": 0, "seeded": 0}
        assert third.control.settings()["max_batch_records"] == 100
