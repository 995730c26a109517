"""Checks the Airflow DAG without Airflow (which cannot be installed where the tests run).

usage: python3 check_dag.py DAG_FILE REPO_ROOT STAGE [STAGE...]
Compiles the file, then reads its syntax tree: the DAG's settings (catchup, max_active_runs, retries with back-off,
an SLA), the tasks and their single >> chain, and the stages each task's command runs, which must be known stages
of the launcher (given as arguments) and the launcher script must exist. Prints what it found; exit 1 on a problem.
"""
import ast
import os
import sys


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
            tasks[node.targets[0].id] = {"task_id": kw["task_id"].value, "stage": stage, "sla": "sla" in kw,
                                         "operator": node.value.func.id}
    for name, t in tasks.items():
        if t["stage"] is None:
            problems.append(f"task {t['task_id']} does not run a stage through pipeline(...)")
        elif t["stage"] not in stages:
            problems.append(f"task {t['task_id']} runs unknown stage {t['stage']!r}; known: {sorted(stages)}")
    if not any(t["sla"] for t in tasks.values()):
        problems.append("no task has an SLA")

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

    print("tasks: " + " >> ".join(f"{tasks[t]['task_id']}[{tasks[t]['stage']}]" for t in chain))
    for p in problems:
        print("PROBLEM: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], set(sys.argv[3:])))
