"""Where a respondent's submission spends its time, in-process: the personal link, the survey
page and the POST of complete answers, through Flask's test client on a fresh SQLite database
(or DATABASE_URL's PostgreSQL, see --database), under cProfile.

Prints the mean milliseconds of each step and the functions with the most cumulative time, so
that the biggest cost is fixed first. Not a benchmark (``make bench`` does not run it: its name
does not end in ``_bench``); the figures of record come from bench/submission_bench.py.

    .venv/bin/python bench/profile_submission.py [--responses 200] [--top 30]
        [--step page|post|link|all] [--database sqlite|URL]
"""

from __future__ import annotations

import argparse
import cProfile
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import fresh_postgres, parse_form, prepare_survey, survey_env
from profiling import print_profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--step", choices=["link", "page", "post", "all", "none"], default="all")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument(
        "--cpu", action="store_true", help="profile and time CPU time, not wall time"
    )
    parser.add_argument("--callers", help="who calls the functions matching this pattern")
    parser.add_argument("--callees", help="what the functions matching this pattern call")
    parser.add_argument(
        "--statements", action="store_true", help="list the SQL statements of one response's steps"
    )
    parser.add_argument(
        "--save",
        metavar="FILE",
        help="also write the profile to FILE (pstats format, for snakeviz etc.)",
    )
    args = parser.parse_args(argv)

    import os

    with tempfile.TemporaryDirectory(prefix="profile-submission-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        url = (
            f"sqlite:///{instance / 'survey.sqlite'}"
            if args.database == "sqlite"
            else fresh_postgres(args.database)
        )
        env = survey_env(url, instance, 5000)
        _, links = prepare_survey(env, args.responses + args.warmup)
        os.environ.update(env)

        from survey import create_app

        app = create_app()
        statements = {"link": [], "page": [], "post": []}
        current = {"step": None}
        with app.app_context():
            from sqlalchemy import event

            from survey.extensions import db

            @event.listens_for(db.engine, "before_cursor_execute")
            def count(conn, cursor, statement, parameters, context, executemany):
                if current["step"] is not None:
                    statements[current["step"]].append(statement.split("\n")[0][:90])

        rng = random.Random(2004)
        # --cpu: CPU time only, so that waiting for the database server does not count.
        profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
        spent = {"link": 0.0, "page": 0.0, "post": 0.0}

        clock = time.process_time if args.cpu else time.perf_counter

        def timed(step: str, call):
            current["step"] = step if measuring else None
            start = clock()
            if args.step in (step, "all") and measuring:
                profiler.enable()
                result = call()
                profiler.disable()
            else:
                result = call()
            if measuring:
                spent[step] += clock() - start
            return result

        measuring = False
        for n, link in enumerate(links):
            measuring = n >= args.warmup
            client = app.test_client()
            path = "/" + link.split("/", 3)[3]
            entered = timed("link", lambda: client.get(path))  # noqa: B023 (called at once)
            assert entered.status_code == 303, entered.status_code
            page_url = entered.headers["Location"]
            page = timed("page", lambda: client.get(page_url))  # noqa: B023
            assert page.status_code == 200, page.status_code
            form = parse_form(page.get_data(as_text=True), "http://localhost" + page_url)
            data = form.answers(rng)
            action = form.url.removeprefix("http://localhost")
            posted = timed("post", lambda: client.post(action, data=data))  # noqa: B023
            assert posted.status_code == 303, (posted.status_code, posted.get_data(as_text=True))

    for step, seconds in spent.items():
        print(
            f"{step:<5} {1000 * seconds / args.responses:7.2f} ms per response, "
            f"{len(statements[step]) / args.responses:.1f} SQL statements"
        )
        if args.statements:
            for statement in statements[step][: len(statements[step]) // args.responses]:
                print(f"      {statement}")
    print(f"all   {1000 * sum(spent.values()) / args.responses:7.2f} ms per response")
    if args.step != "none":
        print_profile(profiler, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
