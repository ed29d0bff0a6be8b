"""The section ``paperfeed bench follow`` writes to docs/benchmarks.md, from its results."""

from __future__ import annotations


def _load(pair) -> str:
    return f"{pair[0]:.1f} / {pair[1]:.1f}"


def markdown(results: dict) -> str:
    lines = ["## Several hosts: change log, followers, vector segments (`paperfeed bench follow`)",
             "",
             "Load: the machine's 1/5-minute load average when the row was measured (2 cores, "
             "shared with other engineers' work and a 1M-paper corpus build; every time here "
             "is an upper bound). Ratios are of the same run. The parts ran separately "
             "(`--results` keeps each part's rows), so each row carries the load of its own "
             "time; the date at the end is when this section was written.", ""]
    if rows := results.get("vectors"):
        batch = rows[0]["batch"]
        lines += [
            f"Adding {batch:,} vectors to an index of N (384-d, f16, connectivity 16, synthetic "
            "unit vectors). Before: read the whole file, add, write it all back (fsynced). "
            "Now: write one new segment; the base is not read. The file is in the page "
            "cache for both (it was just copied), so \"before\" is a lower bound for a "
            "host that has to read it from disk.", "",
            "| N | file | before | of which read / add / write | now: one segment | "
            "before ÷ now | reader sees it (first search) | search: one file / base + 1 "
            "segment | load |",
            "|---|---|---|---|---|---|---|---|---|"]
        for v in rows:
            write = v["before_s"] - v["before_read_s"] - v["before_add_s"]
            lines.append(
                f"| {v['base']:,} | {v['file_mb']:,.0f} MB | {v['before_s']:.2f} s | "
                f"{v['before_read_s']:.2f} / {v['before_add_s']:.2f} / {write:.2f} s | "
                f"{v['after_s']:.3f} s | {v['before_s'] / v['after_s']:.0f}× | "
                f"{v['reader_refresh_s'] * 1000:.1f} ms | {v['query_base_ms']:.2f} / "
                f"{v['query_segmented_ms']:.2f} ms | {_load(v['load'])} |")
        if built := [v for v in rows if "build_s" in v]:
            if rows[-1]["base"] < 1_000_000:
                lines += ["", f"Not measured: a base of 1,000,000 (the largest built in the "
                          f"time this run had is {rows[-1]['base']:,})."]
            lines += ["", "Building the synthetic bases (once, kept in `--dir`: one index grown "
                      "and saved at each size, with a smaller beam width than the project's "
                      "128 — the file is the same size, and what is timed does not depend on "
                      "the graph's quality): " +
                      "; ".join(f"{v['grown_from']:,} → {v['base']:,} at beam "
                                f"{v['build_expansion']}: {v['build_s']:.0f} s (load "
                                f"{v['build_load'][0]:.1f})" for v in built) + "."]
        lines.append("")
    if rows := results.get("bootstrap"):
        lines += [
            "Bootstrap of a new host: an empty folder, `paperfeed index follow` against a "
            "database of N papers with stored vectors (no model runs). The keyword index is "
            "written by one writer in one commit, the rows stream in keyset pages, the vectors "
            "go to usearch in batches of 20,000 on every core.", "",
            "| papers | rebuild | keyword documents | vectors | whole command | papers/s | "
            "load |", "|---|---|---|---|---|---|---|"]
        for b in rows:
            lines.append(
                f"| {b['papers']:,} | {b['rebuild_s']:.1f} s | {b['keywords']:,} in "
                f"{b.get('keyword_s', float('nan')):.1f} s | {b['vectors']:,} in "
                f"{b.get('vector_s', float('nan')):.1f} s | {b['command_s']:.1f} s | "
                f"{b['papers'] / b['rebuild_s']:,.0f} | {_load(b.get('load', (0, 0)))} |")
        largest = rows[-1]
        graph = largest.get("vector_s", float("nan")) / largest["rebuild_s"]
        lines += ["", "The rows may come from separate runs at different loads: compare them "
                  "by the last column.",
                  f"Building the HNSW graph is {graph:.0%} of the rebuild at "
                  f"{largest['papers']:,} papers; it runs on every core (usearch), so more "
                  "cores bootstrap proportionally faster."]
        if largest["papers"] < 1_000_000:
            hours = 1_000_000 / (largest["papers"] / largest["rebuild_s"]) / 3600
            lines.append(
                f"Not measured: a bootstrap at 1,000,000 papers. At the rate measured at "
                f"{largest['papers']:,} it would take {hours:.1f} h or more on this machine at "
                "this load (more: each insertion into the graph costs a little more as it "
                "grows), beyond the time this run had.")
        lines.append("")
    if phase := results.get("phase"):
        before, now = phase["baseline"], phase["now"]
        lines += [
            f"Where the bootstrap's time goes besides the HNSW build, at {phase['papers']:,} "
            "papers: reading the rows and writing the keyword index, and reading and decoding "
            "the stored vectors (the vector index only drains them), by the code before this "
            "change (a keyword commit every 2,000 papers with a delete per document; vectors "
            "read with OFFSET pages, decoded row by row) and now, back to back:", "",
            "| | keyword index | reading vectors | total | load |", "|---|---|---|---|---|",
            f"| before | {before['keyword_s']:.1f} s | {before['vector_read_s']:.1f} s | "
            f"{before['total_s']:.1f} s | {_load(before['load'])} |",
            f"| now | {now['keyword_s']:.1f} s | {now['vector_read_s']:.1f} s | "
            f"{now['total_s']:.1f} s | {_load(now['load'])} |",
            f"| before ÷ now | {before['keyword_s'] / now['keyword_s']:.1f}× | "
            f"{before['vector_read_s'] / now['vector_read_s']:.1f}× | "
            f"{before['total_s'] / now['total_s']:.1f}× | |", ""]
    if lag := results.get("lag"):
        lines += [
            f"Follower lag while another process ingests {lag['rate']:,} papers a minute "
            f"for {lag['seconds']} s (batches of 100 through the merge; {lag['papers']:,} "
            "papers): commit on the writer to found in the follower's keyword index, "
            f"p50 **{lag['p50']:.2f} s**, p99 **{lag['p99']:.2f} s**, max {lag['max']:.2f} s"
            + (f" (load {_load(lag['load'])})" if "load" in lag else "") + ".", ""]
    if emb := results.get("embed"):
        lines += [
            f"Embedding workers: the same {emb['papers']:,} real titles and abstracts (SciFact's "
            "corpus), all-MiniLM-L6-v2 on the CPU, embedded by `paperfeed embed --batch 16` "
            "processes, each with its own data directory (a host), splitting the work through "
            f"PostgreSQL. Torch threads per worker = {emb['cores']} cores ÷ workers. Wall: from "
            "starting the processes (model loading included) until the last exits; steady: "
            "from the moment every worker has committed its first batch to the last commit "
            "(model loading excluded). Embedded twice: papers the workers reported embedding "
            "beyond the distinct papers with a vector.", "",
            "| workers | torch threads each | papers each | wall | papers/s (wall) | papers/s "
            "(steady) | × one worker (wall / steady) | embedded twice | load before → after |",
            "|---|---|---|---|---|---|---|---|---|"]
        one, one_steady = emb["rows"][0]["rate"], emb["rows"][0]["steady_rate"]
        for r in emb["rows"]:
            steady = f"{r['steady_rate']:.1f}" if r["steady_rate"] else "–"
            versus = (f"{r['steady_rate'] / one_steady:.2f}" if r["steady_rate"] and one_steady
                      else "–")
            twice = sum(r["per_worker"]) - r["distinct"]
            lines.append(
                f"| {r['workers']} | {r['threads']} | {' + '.join(map(str, r['per_worker']))} | "
                f"{r['wall_s']:.1f} s | {r['rate']:.1f} | {steady} | {r['rate'] / one:.2f} / "
                f"{versus} | {twice} | {_load(r['load_before'])} → {_load(r['load'])} |")
        lines += ["", "Here both workers share the same cores, each with half the threads: on "
                  "an otherwise idle machine two workers can at best match one worker using "
                  "every core, so what this shows is that the split works (each paper embedded "
                  "once, by whichever worker claimed it) and what a second process gains or "
                  "costs on one machine. On a machine oversubscribed by other work (the load "
                  "above) CPU time is shared out per thread, and a process's torch threads wait "
                  "for each other at every operation whenever one of them is descheduled; "
                  "single-threaded workers do not, which is the likeliest reason two workers "
                  "came out ahead here, besides the load changing between the rows. On several "
                  "hosts each worker brings its own cores and the throughput adds up: the "
                  "workers share nothing but the claims in PostgreSQL (one advisory lock per "
                  "paper).", ""]
    lines.append("Reproduce: `paperfeed bench follow --database-url postgres://… --dir "
                 "/var/tmp/vec --vector-base 100000,250000,500000,1000000 --bootstrap-papers "
                 "20000,100000 --baseline-code <older checkout> --results /var/tmp/follow.json` "
                 "(`--skip vectors,bootstrap,phase,lag,embed` to run parts; `--results` keeps the other parts' "
                 "rows).")
    return "\n".join(lines)


# -- helpers run in the scratch database's environment ------------------------------------
