from tests.samples.energy import write_samples

write_samples()
