"""convcg nightly: build-training-data -> train (warm start) -> infer-embeddings -> evaluate, for one day.

Each task runs one stage through scripts/pipeline.sh for the DAG run's logical date ({{ ds }}). The first task waits
until that day's upstream log partitions exist (`check-inputs` exits 0 once they do). Stages write a success marker
per day last and run with skip-complete, so a retried or re-triggered run redoes only what is not complete; clear a
task and run `pipeline.sh nightly --ds DS --force` to redo a finished day.

Airflow Variables (Admin -> Variables):
  convcg_home        checkout or install directory holding scripts/ and conf/   (default /opt/convcg)
  convcg_config      the HOCON config for this environment                   (default <home>/conf/cluster.conf)
  convcg_spark_submit  spark-submit to launch stages with; empty runs them on the worker's local Spark
Connections: none; Spark and storage settings come from the config and from spark-submit's own defaults.
Runs on Airflow 3 (BashOperator and BashSensor from the standard provider, DAG from airflow.sdk) and on Airflow 2.x
(their 2.x paths). Task SLAs exist only up to 2.x (3.0 removed them), so evaluate's 8-hour SLA is set on 2.x only.
`train` trains and `infer-embeddings` publishes both the conversion model and the click-trained engagement retriever
(engagement-retriever.enabled); `evaluate` only reads published embeddings.
"""
from datetime import datetime, timedelta

from airflow import __version__ as AIRFLOW_VERSION

try:  # Airflow 3: the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.sensors.bash import BashSensor
except ImportError:  # Airflow 2.x
    from airflow.operators.bash import BashOperator
    from airflow.sensors.bash import BashSensor
try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.x
    from airflow import DAG

# Task SLAs: Airflow 2.x only.
EVALUATE_SLA = {"sla": timedelta(hours=8)} if AIRFLOW_VERSION.startswith("2.") else {}

HOME = "{{ var.value.get('convcg_home', '/opt/convcg') }}"
CONFIG = "{{ var.value.get('convcg_config', var.value.get('convcg_home', '/opt/convcg') ~ '/conf/cluster.conf') }}"
ENV = {"CONVCG_SPARK_SUBMIT": "{{ var.value.get('convcg_spark_submit', '') }}"}


def pipeline(stage, *extra):
    """The command that runs one stage for the run's logical date."""
    return " ".join([HOME + "/scripts/pipeline.sh", stage, "--config", CONFIG, "--set", "run-date={{ ds }}", *extra])


default_args = {
    "owner": "convcg",
    "retries": 3,
    "retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(hours=2),
    "email_on_failure": True,
}

with DAG(
    dag_id="convcg_nightly",
    description="Conversion candidate generation: training data, training, embeddings, evaluation",
    start_date=datetime(2026, 10, 1),
    schedule="0 3 * * *",
    catchup=True,
    max_active_runs=1,
    default_args=default_args,
    tags=["convcg", "recsys"],
    doc_md=__doc__,
) as dag:
    wait_for_logs = BashSensor(
        task_id="wait_for_logs",
        bash_command=pipeline("check-inputs"),
        env=ENV,
        append_env=True,
        mode="reschedule",
        poke_interval=600,
        timeout=6 * 3600,
    )
    build_training_data = BashOperator(
        task_id="build_training_data",
        bash_command=pipeline("build-training-data", "--set", "skip-complete=true"),
        env=ENV,
        append_env=True,
    )
    train = BashOperator(
        task_id="train",
        bash_command=pipeline("train", "--set", "skip-complete=true", "--set", "train.warm-start=true"),
        env=ENV,
        append_env=True,
        depends_on_past=True,
    )
    infer_embeddings = BashOperator(
        task_id="infer_embeddings",
        bash_command=pipeline("infer-embeddings", "--set", "skip-complete=true"),
        env=ENV,
        append_env=True,
        depends_on_past=True,
    )
    evaluate = BashOperator(
        task_id="evaluate",
        bash_command=pipeline("evaluate", "--set", "skip-complete=true"),
        env=ENV,
        append_env=True,
        **EVALUATE_SLA,
    )

    wait_for_logs >> build_training_data >> train >> infer_embeddings >> evaluate
