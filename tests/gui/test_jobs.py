"""gui/jobs.py: the one job mechanism. Every wait is on a signal or a condition, never a sleep."""

import threading

import pytest

from digitviz.gui import jobs
from digitviz.gui.jobs import JobRunner


def counting(control, limit=None):
    """Counts until stopped (or ``limit``), one small step of 'work' at a time; returns the count."""
    k = 0
    work = threading.Event()
    while not control() and (limit is None or k < limit):
        k += 1
        work.wait(0.0005)  # stands for a step of real work (a tight loop floods the GUI with signals)
        yield k
    return k


@pytest.fixture
def runner(qtbot):
    r = JobRunner(interval=0.005)
    yield r
    assert r.shutdown()


def test_a_job_streams_progress_in_order_and_delivers_its_value_off_the_gui_thread(qtbot, runner):
    got, threads = [], []

    def fn(control, n):
        threads.append(threading.current_thread())
        return (yield from counting(control, n))

    job = runner.submit(fn, 200, on_progress=got.extend)
    with qtbot.waitSignal(job.done, timeout=5000) as blocker:
        pass
    assert blocker.args == [200]
    assert got == list(range(1, 201))
    assert threads[0] is not threading.main_thread()


def test_stop_delivers_the_partial_result_and_cancel_discards_it(qtbot, runner):
    job = runner.submit(counting)
    with qtbot.waitSignal(job.progress, timeout=5000):
        pass
    with qtbot.waitSignal(job.done, timeout=5000) as blocker:
        job.stop()
    assert blocker.args[0] > 0 and job.stopped

    done = []
    job = runner.submit(counting, on_done=done.append)
    with qtbot.waitSignal(job.progress, timeout=5000):
        pass
    with qtbot.waitSignals([job.cancelled, job.finished], timeout=5000, order="strict"):
        job.cancel()
    assert done == []


def test_a_newer_request_on_a_channel_supersedes_the_older(qtbot, runner):
    results = []
    old = runner.submit(counting, channel="c", on_done=lambda v: results.append("old"))
    with qtbot.waitSignal(old.progress, timeout=5000):
        pass
    new = runner.submit(counting, 10, channel="c", on_done=lambda v: results.append(("new", v)))
    assert new.id > old.id and runner.current("c") is new
    with qtbot.waitSignals([old.cancelled, new.done], timeout=5000):
        pass
    assert results == [("new", 10)]
    qtbot.waitUntil(lambda: runner.current("c") is None, timeout=2000)


def test_a_failure_is_one_message_and_report_works_from_callbacks(qtbot, runner):
    def fn(control):
        for k in range(3):
            control.report(k)
        raise ValueError("bad input")

    got = []
    job = runner.submit(fn, on_progress=got.extend)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        pass
    assert blocker.args[0].startswith("ValueError: bad input")
    assert got == [0, 1, 2]


def test_shutdown_stops_a_long_job_within_one_second(qtbot):
    runner = JobRunner()
    job = runner.submit(counting)
    with qtbot.waitSignal(job.progress, timeout=5000):
        pass
    assert runner.running
    # the GUI thread blocks in shutdown (as when the app quits): the job must end on its own
    assert runner.shutdown(timeout=1.0)
    assert not runner.running
    with qtbot.waitSignal(job.cancelled, timeout=2000):
        pass
    assert runner.submit(counting) is None  # closed


def test_shutdown_all_stops_every_runner(qtbot):
    a, b = JobRunner(), JobRunner()
    ja, jb = a.submit(counting), b.submit(counting)
    with qtbot.waitSignals([ja.progress, jb.progress], timeout=5000):
        pass
    assert jobs.shutdown_all(timeout=1.0)
    assert not a.running and not b.running


def test_blas_is_pinned_to_one_thread_for_the_process():
    from threadpoolctl import threadpool_info

    pools = threadpool_info()
    assert all(pool["num_threads"] == 1 for pool in pools), pools


def test_a_job_streams_progress_and_shutdown_can_wait_for_it(qtbot):
    """(From the experiments tests, where the old Job lived.)"""

    def count(stop):
        k = 0
        work = threading.Event()
        while not stop():
            k += 1
            work.wait(0.0005)  # stands for a step of real work (a tight loop floods the GUI with signals)
            yield k
        return k

    runner = JobRunner(interval=0.005)
    got = []
    job = runner.submit(count, on_progress=got.extend)
    with qtbot.waitSignal(job.progress, timeout=5000):
        pass
    job.stop()
    # the GUI thread blocks in wait() (as at shutdown): the thread must end on its own
    assert runner.wait(2.0)
    with qtbot.waitSignal(job.finished, timeout=2000):
        pass
    assert got == list(range(1, len(got) + 1))


def test_closing_the_window_stops_its_jobs_within_one_second(qtbot, tmp_path, mnist_dir):
    """A download that never ends by itself, and MNIST loading: the window's shutdown stops both."""
    from PySide6.QtCore import QSettings

    from digitviz.gui.main_window import MainWindow

    def endless_fetch(dest, progress, cancel):
        work = threading.Event()
        while not cancel():
            progress("train-images-idx3-ubyte.gz", 1, 9912422)
            work.wait(0.001)  # a network read
        raise RuntimeError("cancelled")

    settings = QSettings(str(tmp_path / "digitviz.ini"), QSettings.IniFormat)
    w = MainWindow(data=None, settings=settings, load_data=False)
    qtbot.addWidget(w)
    w.download_mnist(dest=tmp_path, fetch=endless_fetch)
    download = w.downloader
    with qtbot.waitSignal(download.progress, timeout=5000):
        pass
    w.load_data_folder(mnist_dir)
    assert w.jobs.running
    w.shutdown()  # as when the app quits: cancels every job, then waits at most a second
    runners = w.findChildren(JobRunner)
    assert w.jobs in runners and len(runners) > 1  # the panels' runners are the window's children too
    assert not any(r.running for r in runners)
    assert w.jobs.submit(endless_fetch) is None


def test_a_finished_job_and_its_inputs_are_freed(qtbot):
    """The footprint soak grew by ~1.8 MB an epoch: every finished job stayed alive (its connection held
    a closure over the job itself), and with it the snapshot it was given."""
    import gc
    import weakref

    class Payload:  # stands for a snapshot handed to a job
        pass

    runner = JobRunner()
    payload = Payload()
    kept_payload = weakref.ref(payload)
    results = []
    job = runner.submit(lambda control, p: 7, payload, on_done=results.append)
    kept_job = weakref.ref(job)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    del job, payload

    def freed():
        gc.collect()
        return kept_job() is None and kept_payload() is None

    qtbot.waitUntil(freed, timeout=3000)
    assert results == [7]
    runner.shutdown()


def test_many_finished_jobs_leave_no_job_alive(qtbot):
    """A subclassed QRunnable's wrapper stayed referenced by PySide's pool after it ran (67 of 200 here),
    and with it its job, the job's result and its inputs: a long session piled them up."""
    import gc
    import weakref

    runner = JobRunner()
    results = []
    kept = [weakref.ref(runner.submit(lambda control: bytearray(1000), on_done=results.append)) for _ in range(200)]

    def all_freed():
        gc.collect()
        return len(results) == 200 and all(k() is None for k in kept)

    qtbot.waitUntil(all_freed, timeout=5000)
    runner.shutdown()


def test_garbage_holding_qt_objects_is_collected_on_the_gui_thread_only(qtbot):
    """A cycle holding a Qt object, collected automatically by a job's thread, destroyed that object off the
    GUI thread (a test window hung so, the worker thread in QObject::~QObject under the collector)."""
    import gc
    import weakref

    from PySide6.QtCore import QObject

    runner = JobRunner()
    assert not gc.isenabled()  # automatic collection would run in whichever thread allocates
    where = []

    class Holder:
        pass

    h = Holder()
    h.me, h.qobject = h, QObject()  # a cycle with a Qt object in it, as a closed window leaves
    weakref.finalize(h, lambda: where.append(threading.current_thread() is threading.main_thread()))
    del h

    def allocate(control):  # a job that makes (and keeps) many containers: what sets off a collection
        return [[i] for i in range(200_000)]

    kept = []
    job = runner.submit(allocate, on_done=kept.append)
    with qtbot.waitSignal(job.finished, timeout=10000):
        pass
    qtbot.waitUntil(lambda: bool(where), timeout=5000)  # the GUI thread's collector gets to it
    assert where == [True]
    runner.shutdown()
