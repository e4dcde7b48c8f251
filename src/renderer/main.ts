import { createApp } from 'vue';
import App from './App.vue';
import { provideLab } from './composables/lab';
import './styles.css';

const app = createApp(App);
provideLab(app);
app.mount('#app');
