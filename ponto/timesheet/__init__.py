"""The timesheet (espelho de ponto, CLT art. 84; REP-P.md): work schedules, holidays, journeys and the CLT rules
that turn an employee's punches into worked, night, overtime and undertime minutes. Plain Python over plain data:
the store fetches the marks, this computes, renderers format."""
