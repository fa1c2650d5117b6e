#!/usr/bin/env python3
"""Dumps each question's two candidate lists (BM25 and vector, top 100 with scores) from a
knowledge base synced through the CLI, for choosing the fusion and the decline calibration
offline (scripts/retrieval/tune.py). Tuning reads only the tuning sets; the evaluation set is
never an input to a choice (see BENCHMARKS.md, "Retrieval quality").

Usage: dump_lists.py OUT.json QUESTIONS.json [QUESTIONS.json ...] [--fixture FILE]
Env: SUPPORTBOT_BIN (default: $CARGO_TARGET_DIR/release/supportbot).
"""
import base64
import json
import os
import urllib.request
import subprocess
import sys
import tempfile
import time


def main():
    args = sys.argv[1:]
    fixture = None
    if "--fixture" in args:
        i = args.index("--fixture")
        fixture = args[i + 1]
        del args[i : i + 2]
    out, files = args[0], args[1:]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/supportbot/target"))
    binary = os.environ.get("SUPPORTBOT_BIN", os.path.join(target, "release", "supportbot"))
    data = tempfile.mkdtemp()
    env = dict(os.environ, SUPPORTBOT_DATA_DIR=os.path.join(data, "kb"), SUPPORTBOT_SECRET_STORE="file",
               SUPPORTBOT_PASSWORD="admin")
    sim_cmd = [binary, "sim", "--port", "0"] + (["--fixture", fixture] if fixture else [])
    sim = subprocess.Popen(sim_cmd, stdout=subprocess.PIPE, text=True)
    try:
        url = sim.stdout.readline().strip().removeprefix("listening on ")
        subprocess.run([binary, "integrations", "add", "--name", "Eval", "--kind", "servicenow", "--auth", "basic",
                        "--url", url, "--username", "admin"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([binary, "sync", "Eval"], env=env, check=True, stdout=subprocess.DEVNULL)
        # The corpus itself (number -> text), for features that compare a question with the text
        # of the incident it matched.
        request = urllib.request.Request(
            url.rstrip("/") + "/api/now/table/incident?sysparm_limit=10000"
            "&sysparm_fields=number,short_description,description,close_notes",
            headers={"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode(),
                     "Accept": "application/json"})
        corpus = {r["number"]: " ".join([r.get("short_description", ""), r.get("description", ""),
                                         r.get("close_notes", "")])
                  for r in json.load(urllib.request.urlopen(request))["result"]}
        rows = []
        for f in files:
            for q in json.load(open(f)):
                lists = {}
                for method in ("bm25", "vector"):
                    r = subprocess.run([binary, "kb", "search", q["query"], "--method", method, "--k", "100", "--json"],
                                       env=env, check=True, capture_output=True, text=True)
                    hits = json.loads(r.stdout)
                    hits = hits.get("hits", hits) if isinstance(hits, dict) else hits
                    lists[method] = [[h["number"], h["score"], h.get("similarity")] for h in hits]
                rows.append(dict(q, set=os.path.basename(f), **lists))
        json.dump({"corpus": corpus, "questions": rows}, open(out, "w"))
        print(f"{len(rows)} questions dumped to {out}")
    finally:
        sim.terminate()


if __name__ == "__main__":
    t = time.time()
    main()
    print(f"{time.time() - t:.0f} s", file=sys.stderr)
