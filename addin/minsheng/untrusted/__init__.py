"""Opening what users hand us (收集的填报表、任务台账、通报模板): the inbox walk, the bytes checked before any
reader, worker processes with limits, and the few things read from a package's XML ourselves."""
