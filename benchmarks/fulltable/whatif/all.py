"""All the what-ifs together (the encoder ones are in the code now)."""
from pathlib import Path

_here = Path(__file__).resolve().parent
for _name in ("attrcache.py", "window.py", "batchacks.py"):
    _path = _here / _name
    exec(compile(_path.read_text(), str(_path), "exec"), {"__name__": f"whatif.{_name[:-3]}"})
