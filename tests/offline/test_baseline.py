"""The engine's speed-ups change nothing: it registers exactly what Pulumi's stock mock monitor does."""

from offline.baseline import RecordingOfflineMocks, normalized, run_with_stock_monitor
from offline.engine import PROJECT_DIR, run_main, run_stack, stack_config


def _engine_records(stack: str) -> list[str]:
    recording = run_stack(stack, seed=7)
    return normalized([(r.type, r.name, r.inputs) for r in recording.resources])


def _stock_records(stack: str) -> list[str]:
    config = stack_config(PROJECT_DIR, stack)
    mocks = RecordingOfflineMocks(seed=7)
    run_with_stock_monitor(run_main(PROJECT_DIR), mocks, project=config.project, stack=stack, config=config)
    return normalized(mocks.records)


def test_the_engine_registers_the_same_resources_with_the_same_inputs_as_the_stock_monitor_on_dev():
    engine, stock = _engine_records("dev"), _stock_records("dev")
    assert len(engine) > 100
    assert engine == stock


def test_the_comparison_would_notice_a_changed_input():
    engine = _engine_records("dev")
    tampered = [line.replace('"replicas": 3', '"replicas": 4', 1) for line in engine]
    assert tampered != engine
