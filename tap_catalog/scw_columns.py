"""The columns of ``integral.scw`` that code names, beyond its declaration
(``tables/integral.toml``).

:data:`FIXED_COLUMNS`: the fifteen fixed columns, first in the declaration and in this
order (../shared/catalogue/README.md): benchmark queries use them by name and order, the
demo CSV holds them, the selection page's queries return them. The last six are the good
times of :data:`integral.instruments.INSTRUMENTS`, in its order.
"""
from integral.instruments import INSTRUMENTS

#: the fifteen fixed columns of integral.scw, in order
FIXED_COLUMNS = ("scw_id", "scw_ver", "scw_type", "status", "ra", "dec", "start_time", "end_time",
                 "revolution", *(i.good_column for i in INSTRUMENTS))
