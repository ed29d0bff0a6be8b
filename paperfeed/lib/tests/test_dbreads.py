from __future__ import annotations

import asyncio
import concurrent.futures

from paperfeed.lib import dbreads


def test_there_is_no_web_request_outside_one():
    assert dbreads.current() is None
    assert not dbreads.forced_to_primary()


def test_a_web_request_holds_its_state_until_it_ends():
    with dbreads.web_request(replicas=True) as reads:
        assert dbreads.current() is reads and reads.replicas and not reads.wrote
        reads.wrote = True
        assert dbreads.current().wrote
    assert dbreads.current() is None


def test_primary_nests_and_ends_with_its_block_even_on_error():
    with dbreads.primary():
        with dbreads.primary():
            assert dbreads.forced_to_primary()
        assert dbreads.forced_to_primary()
    assert not dbreads.forced_to_primary()
    try:
        with dbreads.primary():
            raise KeyError("boom")
    except KeyError:
        pass
    assert not dbreads.forced_to_primary()


def test_two_concurrent_requests_do_not_share_their_state():
    async def request(replicas: bool) -> tuple[bool, bool]:
        with dbreads.web_request(replicas=replicas) as reads:
            await asyncio.sleep(0.01)
            return reads.replicas, dbreads.current() is reads

    async def both():
        return await asyncio.gather(request(True), request(False))

    # In a thread of its own: an earlier test (a browser's) may leave an event loop
    # running in this one, where asyncio.run() refuses to start.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, both()).result() == [(True, True), (False, True)]
