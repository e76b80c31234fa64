"""Reports and scores: the completion report, the overdue digest and the assessment.

Each report is a core function over a session that returns plain data (``completion.build``,
``overdue.build``, ``assessment.assess``); ``render``, ``charts`` and ``xlsx`` turn that data
into HTML, PDF, SVG and Excel files. Nothing here commits or reads the clock.
"""
