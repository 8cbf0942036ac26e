"""Import a script as a module and call its ``main`` with production's paths.

Usage: python3 main_runner.py CALL_FILE

CALL_FILE (JSON) holds ``script``, ``input_paths``, ``output_paths``, ``environ_vars``
(secret values masked: those named in ``secret_env`` are read from the environment),
``job_args`` and ``report``. The script is imported under its own module name with its
folder on ``sys.path``, so ``multiprocessing`` children can import it again. A
``sys.exit`` inside ``main`` ends the process with the same code, and the code is also
written to the report file so the sandbox can say where it came from.
"""

import argparse
import importlib.util
import inspect
import json
import logging
import os
import sys


class CallableLogger(logging.Logger):
    """A logger that also works where a script expects a print-like callable."""

    def __call__(self, message, *args):
        self.info(message, *args)


def make_logger(name):
    # A logger of its own class, outside the registry: the script may already hold a
    # plain logger under the same name, and that one would not be callable.
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logger = CallableLogger(name)
    logger.parent = logging.getLogger()
    return logger


def load_module(script, code_dir):
    if script.startswith("module:"):
        # Package-relative imports: import it as the package module it is.
        sys.path.insert(0, code_dir)
        sys.argv = [script]
        return importlib.import_module(script[len("module:") :])
    folder, filename = os.path.split(script)
    name = os.path.splitext(filename)[0]
    sys.path.insert(0, folder)
    sys.argv = [script]
    loaded = sys.modules.get(name)
    if name.isidentifier() and loaded is None:
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def environ_vars(call):
    """The call's variables; secret ones (masked in CALL_FILE) come from the environment."""
    values = dict(call["environ_vars"])
    for name in call.get("secret_env", []):
        if name in os.environ:
            values[name] = os.environ[name]
    return values


def build_call(main, call, module_name):
    arguments = {
        "input_paths": call["input_paths"],
        "output_paths": call["output_paths"],
        "environ_vars": environ_vars(call),
        "job_args": argparse.Namespace(**call["job_args"]),
    }
    parameters = inspect.signature(main).parameters
    if "logger" in parameters:
        arguments["logger"] = make_logger(module_name)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    if not accepts_any:
        arguments = {key: value for key, value in arguments.items() if key in parameters}
    return arguments


def write_report(path, report):
    if not path:
        return
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(report, handle)
    os.rename(temporary, path)


def run(call):
    module = load_module(call["script"], call.get("code_dir", ""))
    main = getattr(module, "main", None)
    if not callable(main):
        sys.stderr.write("sandbox: %s defines no main() function\n" % call["script"])
        write_report(call.get("report"), {"missing_main": True})
        return 2
    try:
        main(**build_call(main, call, module.__name__))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            sys.stderr.write("%s\n" % exc.code)
        write_report(call.get("report"), {"sys_exit_code": code})
        return code
    write_report(call.get("report"), {"returned": True})
    return 0


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        sys.exit(run(json.load(handle)))
