// The Python interpreter that imports the given modules (torch for the reference benches and
// checks): $DINOV2_PYTHON, then python3 on the PATH, then Debian's /usr/bin/python3 (where
// python3-torch, python3-sklearn and python3-omegaconf install; a pyenv python3 on the PATH
// may lack them). Undefined when none does: the caller skips and says so.
import { spawnSync } from "node:child_process";

export function pythonWith(modules: readonly string[] = ["torch"]): string | undefined {
  const code = `import ${modules.join(", ")}`;
  return [process.env.DINOV2_PYTHON, "python3", "/usr/bin/python3"].find(
    (py) => py && spawnSync(py, ["-c", code], { stdio: "ignore" }).status === 0,
  );
}
