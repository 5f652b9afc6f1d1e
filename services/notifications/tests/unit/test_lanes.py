"""Sending lanes: one per target, in order within it, side by side across targets, bounded."""
import eventlet

from services.notifications.lanes import SendingLanes


def lanes(concurrency):
    made = SendingLanes()
    made.busy, made.stopping, made.pool = set(), False, eventlet.GreenPool(concurrency)
    return made


def test_a_slow_target_holds_up_only_its_own_lane():
    done = []
    pool = lanes(2)

    def slow(target, _lanes):
        eventlet.sleep(0.2)
        done.append(target)

    def quick(target, _lanes):
        done.append(target)

    assert pool.open("webhook:1", slow) is True
    assert pool.open("webhook:1", quick) is False  # one lane per target: its deliveries stay in order
    assert pool.open("webhook:2", quick) is True
    assert pool.open("webhook:3", quick) is False  # both lanes taken; the next tick tries again
    eventlet.sleep(0.05)
    assert done == ["webhook:2"]  # the quick target did not wait for the slow one
    pool.pool.waitall()
    assert done == ["webhook:2", "webhook:1"] and pool.busy == set()
    pool.stop()
    assert pool.open("webhook:4", quick) is False  # stopping: no new lanes
