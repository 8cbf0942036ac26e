"""Writes output files whose names a terminal, an HTML page or an XML parser would act on."""

import os

OUTPUT_DIR = "/opt/ml/processing/output/data"

NAMES = [
    b"new\nline.txt",
    b"\x1b]0;pwn\x07.txt",  # sets the terminal's title
    b"\x1b[2J.txt",  # clears the screen
    b"[bold]x[/bold]",  # rich markup; '/' makes it a folder "[bold]x[" holding "bold]"
    b"bad\xff\xfe.txt",  # not UTF-8
]

if __name__ == "__main__":
    os.makedirs(os.path.join(OUTPUT_DIR, "[bold]x["), exist_ok=True)
    for name in NAMES:
        with open(os.path.join(OUTPUT_DIR.encode(), name), "wb") as handle:
            handle.write(b"x")
    print("wrote \x1b[2J [bold]names[/bold]")
    raise SystemExit("\x1b]0;pwn\x07 failed on purpose")
