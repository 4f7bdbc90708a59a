from tests.samples.papers import write

write()
