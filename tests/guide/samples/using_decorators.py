"""The guide, Usage > Basic Tracing > Using Decorators: a sync and an async function traced
under the names given; the sync one called from the async one nests under it."""

import asyncio

from podcast_kg_otel import init_tracing, trace_async, trace_method


@trace_method(name="my_operation")
def process_data(data):
    return sorted(data)


@trace_async(name="async_operation")
async def async_process(data):
    await asyncio.sleep(0)
    return process_data(data)


if __name__ == "__main__":
    init_tracing()
    print(asyncio.run(async_process([3, 1, 2])))
