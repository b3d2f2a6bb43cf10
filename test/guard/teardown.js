module.exports = () => require('./real-machine').teardown();
