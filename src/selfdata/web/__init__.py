from selfdata.access import Query
