from tests.samples.enedis import write_samples

write_samples()
