"""The classroom: assignments, a class's submissions, grading them, and class summaries.

A layer between the workflows and the interfaces. It knows nothing of HTTP: the student's page,
the JSON API and (later) an LMS adapter all call :class:`~tracegrad.classroom.submissions.Classroom`,
so that the rules (attempts, reveal, hints) are enforced once, below every door.

* :mod:`.settings` — the ``[assignment]`` table: asked quantities, attempts, reveal and hint rules;
* :mod:`.assignment` — a problem, its variants or a roster's, the asked elements, who is who;
* :mod:`.sheet` — the student's sheet: the derivation's view model with the asked numbers taken out;
* :mod:`.feedback` — a check report cut to what the settings allow a student to see;
* :mod:`.submissions` — :class:`~tracegrad.classroom.submissions.Classroom`: submit, save, resume, solution;
* :mod:`.store`, :mod:`.models`, ``migrations/`` — the database (SQLAlchemy, Alembic; SQLite or PostgreSQL);
* :mod:`.summary` — the teacher's view: standings, grades as CSV, the class summary.
"""
