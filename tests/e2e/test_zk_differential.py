"""Differential tests: each scenario of zkdiff.py runs against Apache
ZooKeeper 3.8 (Debian's zookeeper package, started here on a free loopback
port) and against zonekeeperd; the normalized observations must be equal.

ZK_DIFF_SELFTEST=1 runs every scenario against two Apache ZooKeeper
servers instead, to check that the normalization hides only what must
differ (sessions, times, absolute zxids)."""
import os

import pytest

import zkdiff
import zkserver

MISSING = zkserver.apache_missing()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))
# Raw test clients do not ping: their sessions must outlive a scenario.
MAX_TIMEOUT = 60000
SELFTEST = os.environ.get("ZK_DIFF_SELFTEST") == "1"


@pytest.fixture(scope="module")
def apache():
    z = zkserver.ApacheZK(max_session_timeout_ms=MAX_TIMEOUT).start()
    yield z
    z.cleanup()


@pytest.fixture(scope="module")
def other():
    if SELFTEST:
        z = zkserver.ApacheZK(max_session_timeout_ms=MAX_TIMEOUT).start()
        z.name = "apache2"
        yield z
        z.cleanup()
        return
    d = zkserver.zk_daemon(zk_extra="max_session_timeout_ms = %d;" % MAX_TIMEOUT)
    d.port = d.zk_port
    d.name = "zonekeeperd"
    yield d
    code = d.stop()
    assert code == 0, "daemon exit code %s\n%s" % (code, d.read_log()[-5000:])


# Differences from Apache ZooKeeper 3.8 still present in zonekeeperd when
# these tests were written (after the server's own round of fixes). strict:
# once one is fixed its scenario passes, the xfail turns into a failure, and
# its entry must go.
KNOWN_SERVER_BUGS = {
}


def _params():
    out = []
    for sc in zkdiff.SCENARIOS:
        reason = None if SELFTEST else KNOWN_SERVER_BUGS.get(sc.__name__)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(sc, marks=marks, id=sc.__name__[3:]))
    return out


@pytest.mark.parametrize("scenario", _params())
def test_same_as_apache(apache, other, scenario):
    want = zkdiff.run(apache.port, scenario)
    got = zkdiff.run(other.port, scenario)
    assert want == got, "%s differs from Apache ZooKeeper 3.8 (- apache, + %s):\n%s" % (
        scenario.__name__, other.name, zkdiff.diff_text(want, got, "apache", other.name))
