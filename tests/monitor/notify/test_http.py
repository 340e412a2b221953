"""The POST every HTTP notifier makes, against a real server on 127.0.0.1: what is retried, what is refused for
good, and errors that name the variable holding the URL, never the URL or its token."""

from __future__ import annotations

import pytest

from monitor.notify.http import Endpoint
from monitor.notify.receiver import DeliveryError
from tests.monitor.notify.conftest import Hook, free_port, hook_server

TOKEN = "B0000-secret-token-0123456789abcdef"


def endpoint(port: int, timeout: float = 2.0) -> Endpoint:
    return Endpoint("chat", "MONITOR_CHAT_URL", timeout, {"MONITOR_CHAT_URL": f"http://127.0.0.1:{port}/x/{TOKEN}"})


def test_a_refused_connection_is_for_later_and_says_so_without_the_url():
    with pytest.raises(DeliveryError) as e:
        endpoint(free_port()).post(b"{}")
    assert (
        str(e.value) == "receiver chat: the URL in MONITOR_CHAT_URL (127.0.0.1) cannot be reached: Connection refused"
    )


@pytest.mark.parametrize(("status", "later"), [(200, None), (204, None), (301, False), (404, False), (429, True)])
def test_each_answer_is_delivered_refused_for_good_or_kept(status, later):
    hook, port = Hook(replies=[(status, b"", 0.0)]), free_port()
    with hook_server(port, hook):
        if later:
            with pytest.raises(DeliveryError):
                endpoint(port).post(b"{}")
            return
        refusal = endpoint(port).post(b"{}")
    assert (refusal is None) == (later is None)
    if refusal is not None:
        assert (refusal.code, refusal.permanent) == (status, True)
    assert [p.path for p in hook.posts] == [f"/x/{TOKEN}"]  # a redirect is not followed
