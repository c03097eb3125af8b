"""Product feedback: capture it from every channel, group it into themes, route and track
the themes, close the loop with the people who asked, and digest it for the product team.

Modules: ``models`` (tables), ``items`` (enter, import, capture, delete), ``similarity`` and
``suggestions`` (duplicates), ``themes`` (grouping, routing, states, weight, service level),
``loop`` (who to tell, drafts, notifications), ``digest`` (the product team's digest). Every
change goes through one domain function that checks it, writes the audit log
(``commops.ops.core.record``) and, for a contribution, emits the activity.
"""

from commops.ops.feedback import models as models  # the tables, whenever the package is used
