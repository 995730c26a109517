"""Checks the Airflow DAG without Airflow (which cannot be installed where the tests run).

usage: python3 check_dag.py DAG_FILE REPO_ROOT STAGE [STAGE...]
Compiles the file, then reads its syntax tree: the DAG's settings (catchup, max_active_runs, retries with back-off),
the tasks and their single >> chain, and the stages each task's command runs, which must be known stages of the
launcher (given as arguments) and the launcher script must exist. Then imports the file twice, against stand-ins
of the Airflow 3 and Airflow 2.x module layouts (where each version keeps DAG, BashOperator and BashSensor; Airflow 3
refuses an operator's `sla`, which it removed): both imports must build the same chain, with an SLA on 2.x and
none on 3. The stand-ins check import paths and arguments, not Airflow's behaviour. Prints what it found; exit 1 on
a problem.
"""
import ast
import importlib.util
import os
import sys
import tempfile


def main(dag_file, repo_root, stages):
    source = open(dag_file, encoding="utf-8").read()
    compile(source, dag_file, "exec")
    tree = ast.parse(source)
    problems = []

    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    dag = next((c for c in calls if c.func.id == "DAG"), None)
    if dag is None:
        problems.append("no DAG(...) call")
    else:
        kw = {k.arg: k.value for k in dag.keywords}
        for key, expected in (("catchup", True), ("max_active_runs", 1)):
            if not (key in kw and isinstance(kw[key], ast.Constant) and kw[key].value == expected):
                problems.append(f"DAG {key} must be {expected}")

    defaults = next((n for n in ast.walk(tree) if isinstance(n, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == "default_args" for t in n.targets)), None)
    default_keys = {k.value for k in defaults.value.keys} if defaults is not None else set()
    for key in ("retries", "retry_delay", "retry_exponential_backoff"):
        if key not in default_keys:
            problems.append(f"default_args lacks {key}")

    tasks = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
                and node.value.func.id in ("BashOperator", "BashSensor"):
            kw = {k.arg: k.value for k in node.value.keywords}
            command = kw.get("bash_command")
            stage = None
            if isinstance(command, ast.Call) and isinstance(command.func, ast.Name) and command.func.id == "pipeline":
                stage = command.args[0].value
            tasks[node.targets[0].id] = {"task_id": kw["task_id"].value, "stage": stage,
                                         "operator": node.value.func.id}
    for name, t in tasks.items():
        if t["stage"] is None:
            problems.append(f"task {t['task_id']} does not run a stage through pipeline(...)")
        elif t["stage"] not in stages:
            problems.append(f"task {t['task_id']} runs unknown stage {t['stage']!r}; known: {sorted(stages)}")

    chain = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, ast.RShift):
            def flatten(e):
                return flatten(e.left) + [e.right.id] if isinstance(e, ast.BinOp) else [e.id]
            chain = flatten(node.value)
    if sorted(chain) != sorted(tasks):
        problems.append(f"the >> chain {chain} must hold every task exactly once: {sorted(tasks)}")
    if chain and tasks.get(chain[0], {}).get("operator") != "BashSensor":
        problems.append("the chain must start with the sensor on the upstream logs")

    launcher = os.path.join(repo_root, "scripts", "pipeline.sh")
    if not os.access(launcher, os.X_OK):
        problems.append(f"{launcher} is missing or not executable")

    expected_chain = [tasks[t]["task_id"] for t in chain]
    for version in ("3.0.2", "2.10.5"):
        problems += import_under(dag_file, version, expected_chain)

    print("tasks: " + " >> ".join(f"{tasks[t]['task_id']}[{tasks[t]['stage']}]" for t in chain))
    for p in problems:
        print("PROBLEM: " + p)
    return 1 if problems else 0


STAND_IN = """
import sys
TASKS = []
EDGES = []
CURRENT = []


class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id, self.kwargs = dag_id, kwargs

    def __enter__(self):
        CURRENT.append(self)
        return self

    def __exit__(self, *exc):
        CURRENT.pop()


class BaseOperator:
    ALLOWED = {"task_id", "bash_command", "env", "append_env", "depends_on_past", "mode", "poke_interval", "timeout",
               "retries", "retry_delay", "sla"}

    def __init__(self, **kwargs):
        unknown = set(kwargs) - (self.ALLOWED - {"sla"} if AIRFLOW_3 else self.ALLOWED)
        if unknown:
            raise TypeError("Invalid arguments were passed to " + type(self).__name__ + ": " + ", ".join(sorted(unknown)))
        if not CURRENT:
            raise RuntimeError("operator " + kwargs.get("task_id", "?") + " created outside a DAG")
        self.task_id, self.kwargs = kwargs["task_id"], kwargs
        TASKS.append(self)

    def __rshift__(self, other):
        EDGES.append((self.task_id, other.task_id))
        return other


class BashOperator(BaseOperator):
    pass


class BashSensor(BaseOperator):
    pass
"""

LAYOUTS = {
    "3": {"airflow/__init__.py": "__version__ = '{version}'\nfrom airflow._standin import DAG\n",
          "airflow/_standin.py": "AIRFLOW_3 = True\n" + STAND_IN,
          "airflow/sdk/__init__.py": "from airflow._standin import DAG\n",
          "airflow/providers/__init__.py": "", "airflow/providers/standard/__init__.py": "",
          "airflow/providers/standard/operators/__init__.py": "",
          "airflow/providers/standard/operators/bash.py": "from airflow._standin import BashOperator\n",
          "airflow/providers/standard/sensors/__init__.py": "",
          "airflow/providers/standard/sensors/bash.py": "from airflow._standin import BashSensor\n"},
    "2": {"airflow/__init__.py": "__version__ = '{version}'\nfrom airflow._standin import DAG\n",
          "airflow/_standin.py": "AIRFLOW_3 = False\n" + STAND_IN,
          "airflow/operators/__init__.py": "",
          "airflow/operators/bash.py": "from airflow._standin import BashOperator\n",
          "airflow/sensors/__init__.py": "",
          "airflow/sensors/bash.py": "from airflow._standin import BashSensor\n"},
}


def import_under(dag_file, version, expected_chain):
    """Imports the DAG file against the stand-in layout of an Airflow version; the problems found."""
    major = version.split(".")[0]
    with tempfile.TemporaryDirectory() as root:
        for path, text in LAYOUTS[major].items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text.replace("{version}", version))
        saved = sys.path[:], {k: v for k, v in sys.modules.items() if k == "airflow" or k.startswith("airflow.")}
        for k in saved[1]:
            del sys.modules[k]
        sys.path.insert(0, root)
        try:
            spec = importlib.util.spec_from_file_location("convcg_dag_under_" + major, dag_file)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            standin = sys.modules["airflow._standin"]
        except Exception as e:  # noqa: BLE001 - any failure to import is the finding
            return [f"Airflow {version}: the DAG does not import: {type(e).__name__}: {e}"]
        finally:
            sys.path[:] = saved[0]
            for k in [k for k in sys.modules if k == "airflow" or k.startswith("airflow.")]:
                del sys.modules[k]
            sys.modules.update(saved[1])
    problems = []
    chain = [standin.EDGES[0][0]] + [b for _, b in standin.EDGES] if standin.EDGES else []
    if chain != expected_chain:
        problems.append(f"Airflow {version}: the chain is {chain}, expected {expected_chain}")
    with_sla = [t.task_id for t in standin.TASKS if "sla" in t.kwargs]
    if major == "2" and not with_sla:
        problems.append(f"Airflow {version}: no task has an SLA")
    print(f"Airflow {version} layout: imports; {len(standin.TASKS)} tasks; SLA on {with_sla or 'none'}")
    return problems


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], set(sys.argv[3:])))
