"""duban (督办): a compliance deadline scheduler and notifier.

It reads Chinese government implementation plans, finds every task with its agencies
and deadlines, normalizes the deadlines into dates, plans reminders and digests from
rules on China's official workday calendar, and sends them through a notification log
that guarantees nothing is sent twice and nothing is lost.
"""

__version__ = "0.1.0"
